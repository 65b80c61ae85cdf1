package envelope

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/onemfive/onemfive/sdk/internal/pb"
)

// WireVersion is the envelope wire format version MarshalBinary writes and
// the only one UnmarshalBinary accepts.
const WireVersion = 1

// ErrWireVersion is wrapped by UnmarshalBinary when the encoded envelope
// carries a version this code does not speak.
var ErrWireVersion = errors.New("unsupported envelope wire version")

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// MarshalBinary implements encoding.BinaryMarshaler: the protobuf
// onemfive.plugin.v1.Envelope, deterministic (equal envelopes encode to
// equal bytes). It validates first, so it never produces bytes that
// UnmarshalBinary would refuse.
func (e *Envelope) MarshalBinary() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b, err := marshalOpts.Marshal(e.toPB())
	if err != nil {
		return nil, fmt.Errorf("envelope: marshal: %w", err)
	}
	return b, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It rejects unknown
// wire versions (ErrWireVersion) and runs Validate, so a decoded envelope is
// always usable. On error e is left unchanged.
func (e *Envelope) UnmarshalBinary(b []byte) error {
	var m pb.Envelope
	if err := proto.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("envelope: unmarshal: %w", err)
	}
	if m.GetVersion() != WireVersion {
		return fmt.Errorf("envelope: %w %d (want %d)", ErrWireVersion, m.GetVersion(), WireVersion)
	}
	var out Envelope
	if err := out.fromPB(&m); err != nil {
		return err
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*e = out
	return nil
}

func (e *Envelope) toPB() *pb.Envelope {
	m := &pb.Envelope{
		Version:     WireVersion,
		Id:          e.ID,
		Mancon:      pb.ManCon(e.ManCon),
		Kind:        string(e.Kind),
		From:        e.From,
		To:          e.To,
		Service:     e.Service,
		Operation:   e.Operation,
		Headers:     e.Headers,
		ContentType: e.ContentType,
		Payload:     e.Payload,
		ReplyTo:     e.ReplyTo,
		Slip:        e.Slip,
		TtlNanos:    int64(e.TTL),
		Guarantee:   string(e.Guarantee),
	}
	if !e.Created.IsZero() {
		m.Created = timestamppb.New(e.Created)
	}
	return m
}

func (e *Envelope) fromPB(m *pb.Envelope) error {
	if ts := m.GetCreated(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return fmt.Errorf("envelope: %w: created time: %v", ErrInvalid, err)
		}
		e.Created = ts.AsTime()
	} else {
		e.Created = time.Time{}
	}
	e.ID = m.GetId()
	e.ManCon = ManCon(m.GetMancon())
	e.Kind = Kind(m.GetKind())
	e.From = m.GetFrom()
	e.To = m.GetTo()
	e.Service = m.GetService()
	e.Operation = m.GetOperation()
	e.Headers = nil
	if len(m.GetHeaders()) > 0 {
		e.Headers = m.GetHeaders()
	}
	e.ContentType = m.GetContentType()
	e.Payload = m.GetPayload()
	e.ReplyTo = m.GetReplyTo()
	e.Slip = m.GetSlip()
	e.TTL = time.Duration(m.GetTtlNanos())
	e.Guarantee = Guarantee(m.GetGuarantee())
	return nil
}
