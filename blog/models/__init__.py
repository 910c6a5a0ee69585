"""The blog's models; they live in shared.models.blog."""

from shared.models.blog import Author, NavigationItem, Post, Tag, post_authors, post_tags

__all__ = ["Author", "NavigationItem", "Post", "Tag", "post_authors", "post_tags"]
