// Package envelope defines the Envelope, the unit applications and services
// exchange, and the ManCon levels. The wire form is protobuf (versioned);
// MarshalBinary and UnmarshalBinary convert, and UnmarshalBinary validates so
// a decoded envelope is always usable.
package envelope
