import Bindings
print("ccm-lua")
