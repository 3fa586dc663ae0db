"""Command-line sub-commands of ``pavenet`` (see ``pavenet_sdk.cli``)."""
