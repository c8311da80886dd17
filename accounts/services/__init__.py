"""Flows of the accounts app, one module per use case. Both front doors (the
HTML views and the JSON API) call these functions; neither holds flow logic."""
