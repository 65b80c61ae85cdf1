package wire

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

func infoToPB(i base.Info) *pb.PluginInfo {
	m := &pb.PluginInfo{Name: i.Name, Kind: string(i.Kind), Version: i.Version, Capabilities: i.Capabilities}
	for _, v := range i.APIVersions {
		m.ApiVersions = append(m.ApiVersions, int32(v))
	}
	return m
}

func infoFromPB(m *pb.PluginInfo) base.Info {
	i := base.Info{Name: m.GetName(), Kind: base.Kind(m.GetKind()), Version: m.GetVersion(), Capabilities: m.GetCapabilities()}
	for _, v := range m.GetApiVersions() {
		i.APIVersions = append(i.APIVersions, int(v))
	}
	return i
}

func configToPB(c base.Config) *pb.Config {
	return &pb.Config{
		Filename:    c.Filename,
		StartLine:   int64(c.Start.Line),
		StartColumn: int64(c.Start.Column),
		StartByte:   int64(c.Start.Byte),
		Body:        c.Body,
		DataDir:     c.DataDir,
	}
}

func configFromPB(m *pb.Config) base.Config {
	return base.Config{
		Filename: m.GetFilename(),
		Start:    hcl.Pos{Line: int(m.GetStartLine()), Column: int(m.GetStartColumn()), Byte: int(m.GetStartByte())},
		Body:     m.GetBody(),
		DataDir:  m.GetDataDir(),
	}
}

func eventToPB(ev transport.Event, dropped uint64) *pb.Event {
	m := &pb.Event{
		State:    pb.State(ev.State),
		Progress: int32(ev.Progress),
		Phase:    ev.Phase,
		Summary:  ev.Summary,
		Reason:   ev.Reason,
		Peers:    int32(ev.Peers),
		Addr:     ev.Addr,
		Dropped:  dropped,
	}
	if !ev.Time.IsZero() {
		m.Time = timestamppb.New(ev.Time)
	}
	return m
}

func eventFromPB(m *pb.Event) transport.Event {
	ev := transport.Event{
		State:    transport.State(m.GetState()),
		Progress: int(m.GetProgress()),
		Phase:    m.GetPhase(),
		Summary:  m.GetSummary(),
		Reason:   m.GetReason(),
		Peers:    int(m.GetPeers()),
		Addr:     m.GetAddr(),
	}
	if ts := m.GetTime(); ts != nil && ts.CheckValid() == nil {
		ev.Time = ts.AsTime()
	} else {
		ev.Time = time.Time{}
	}
	return ev
}

// packetsToPB copies pkts, so the caller may reuse its slices as soon as
// this returns. Each packet is copied by append, which, unlike make, does
// not zero memory it is about to overwrite.
func packetsToPB(pkts []transport.Packet) []*pb.Packet {
	out := make([]*pb.Packet, len(pkts))
	msgs := make([]pb.Packet, len(pkts))
	for i, p := range pkts {
		msgs[i].Addr = p.Addr
		msgs[i].Data = append([]byte(nil), p.Data...)
		out[i] = &msgs[i]
	}
	return out
}

func packetsFromPB(ms []*pb.Packet) []transport.Packet {
	out := make([]transport.Packet, len(ms))
	for i, m := range ms {
		out[i] = transport.Packet{Addr: m.GetAddr(), Data: m.GetData()}
	}
	return out
}
