package courier

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/seal"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/transport"
)

// ErrRejected is wrapped by errors about packets that were dropped because
// they did not open, did not parse or did not authenticate.
var ErrRejected = errors.New("courier: packet rejected")

// HandlePacket processes one packet received on network. Errors wrapping
// ErrRejected concern the packet (count and drop it); others are local
// failures (the packet was not acknowledged and the sender will retry).
func (c *Courier) HandlePacket(ctx context.Context, network string, pkt transport.Packet) error {
	sender, msg, err := seal.Open(c.id.BoxKey(), pkt.Data)
	if err != nil {
		return fmt.Errorf("%w: from %s %s: %v", ErrRejected, network, pkt.Addr, err)
	}
	kind, d, acks, err := decodeMsg(msg)
	if err != nil {
		return fmt.Errorf("%w: from %s %s: %v", ErrRejected, network, pkt.Addr, err)
	}
	switch kind {
	case msgAck:
		for _, id := range acks {
			// Only the destination can produce an ack sealed with its key;
			// acks name our own envelope ids, so a foreign id is a no-op.
			found, err := c.st.Ack(id)
			if err != nil {
				return fmt.Errorf("courier: ack %s: %w", id, err)
			}
			if found && c.h.Delivery != nil {
				c.h.Delivery(id, "", network, "acked")
			}
		}
		return nil
	case msgData:
		return c.handleData(ctx, network, pkt.Addr, sender.Bytes(), d)
	}
	return nil
}

func (c *Courier) handleData(ctx context.Context, network, addr string, sender []byte, d dataMsg) error {
	rec, err := node.DecodeRecord(d.record)
	if err != nil {
		return fmt.Errorf("%w: sender record: %v", ErrRejected, err)
	}
	if !slices.Equal(rec.BoxKey.Bytes(), sender) {
		return fmt.Errorf("%w: sender record %s does not match the sealing key", ErrRejected, rec.ID.Short())
	}
	var env envelope.Envelope
	if err := env.UnmarshalBinary(d.envelope); err != nil {
		return fmt.Errorf("%w: from %s: %v", ErrRejected, rec.ID.Short(), err)
	}
	if env.ID != d.id {
		return fmt.Errorf("%w: from %s: envelope id %q does not match message id %q", ErrRejected, rec.ID.Short(), env.ID, d.id)
	}
	env.From = string(rec.ID) // authenticated by the seal, whatever the sender claimed
	if c.h.Authenticated != nil {
		c.h.Authenticated(network, addr, rec.ID)
	}
	if err := c.storePeer(rec, d.record); err != nil {
		return err
	}
	if c.h.Intercept == nil || !c.h.Intercept(rec.ID, &env) {
		stored, err := env.MarshalBinary()
		if err != nil {
			return fmt.Errorf("courier: re-encode envelope: %w", err)
		}
		seq, dup, err := c.st.Receive(string(rec.ID)+"/"+env.ID, string(rec.ID), stored, c.opt.Now())
		if err != nil {
			return fmt.Errorf("courier: store received envelope: %w", err)
		}
		if !dup && c.h.Received != nil {
			c.h.Received(seq, rec.ID, &env)
		}
	}
	// Acknowledge only now that it is on disk, over the network it came
	// from, to the address it came from (the live connection if any).
	ack, err := seal.Seal(c.id.BoxKey(), rec.BoxKey, encodeAck([]string{env.ID}))
	if err != nil {
		return fmt.Errorf("courier: seal ack: %w", err)
	}
	if err := c.nets.Send(ctx, network, []transport.Packet{{Addr: addr, Data: ack}}); err != nil {
		c.log.Debug("ack send failed; the sender will retransmit and we ack again", "peer", rec.ID.Short(), "error", err)
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
