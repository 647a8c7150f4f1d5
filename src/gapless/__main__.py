from gapless.cli.main import main

main()
