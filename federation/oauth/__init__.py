"""Federation's OAuth 2.0 authorization server and OpenID Connect provider.

The endpoints are in ``federation.bp.oauth``; this package holds the rules
they apply: signing keys, client authentication, codes and tokens, and
back-channel logout.
"""
