"""What apps exchange: frozen DTOs and the Protocols of the services that return them."""
