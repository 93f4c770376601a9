"""The Learn page's experiments and teaching tasks."""
