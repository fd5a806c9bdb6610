print("secret-broker")
