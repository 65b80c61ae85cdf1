// Package events fans host events out to subscribers (API streams, logs).
//
// Publish never blocks: each subscriber has a bounded buffer, and a
// subscriber that falls behind is cut off (its channel is closed, counted in
// Dropped) rather than slowing the host or silently missing events. Consumers that must not miss envelopes resume from the
// durable inbox by sequence number; events are notifications, the inbox is
// the record.
package events
