"""The command line: one module per verb, each thin (parse options, call the core, hand over to report)."""
