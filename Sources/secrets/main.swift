print("secrets")
