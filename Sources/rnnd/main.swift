print("rnnd")
