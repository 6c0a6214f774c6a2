// Package grants is the token endpoint (RFC 6749 §3.2): one Endpoint that
// authenticates the client and checks its grant allow-list, then one small
// type per grant, each in the file named by its flow (password.go,
// refresh.go, authorization_code.go, client_credentials.go), each with one
// Run. Every token a grant returns is minted by tokens.Minter.Mint and
// every refresh-token row is built by RefreshPolicy (policy.go).
package grants
