// Package pb holds the generated protobuf and gRPC code of the plugin wire
// contract (onemfive.proto). It is internal: public SDK signatures use the
// hand-written types of sdk/base, sdk/transport, sdk/service and
// sdk/envelope, and sdk/internal/wire converts.
package pb

//go:generate protoc -I . -I /usr/include --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative onemfive.proto
