"""`multusctl nad validate|test`, free of click: where NADs come from, the static checks, the trials."""
