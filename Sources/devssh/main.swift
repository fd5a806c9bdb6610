print("devssh")
