from streamlab.cli import main

main()
