import RNNCore
print("rnnbench")
