from pixtag.cli import main

main()
