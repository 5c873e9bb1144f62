# Stand-in for the karbor package: only karbor.exception is provided, so that
# an oslo.messaging client with allowed_remote_exmods=["karbor.exception"]
# rebuilds karbor failures as karbor-api does.
