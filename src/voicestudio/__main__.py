"""`python -m voicestudio` is the `voicestudio` command."""

from voicestudio.cli.app import main

main()
