// Package pb holds the Go types generated from protocol/dashstream.proto
// (package dashstream.v1) by protoc-gen-go. Regenerate with `make proto`;
// `make test` fails if the committed code differs from what it produces.
package pb
