import SuperposeCLI

Superpose.runMain()
