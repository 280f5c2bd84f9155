"""attnscope's Transformer: written out plainly so every attention head can be looked at."""
