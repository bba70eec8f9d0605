module github.com/rs3gw/rs3gw-observability/clients/go

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/rs3gw/rs3gw-observability/gen/go v0.0.0-00010101000000-000000000000
	google.golang.org/protobuf v1.36.12
)

require google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect

replace github.com/rs3gw/rs3gw-observability/gen/go => ../../gen/go
