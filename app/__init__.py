"""attnscope's application layer: the command line now, the web app next."""
