// Package router holds the pure decisions of the onion router: which relays
// a packet's path goes through. It does no I/O, keeps no state and reads no
// clock; randomness comes from the io.Reader the caller passes, so a
// deterministic reader gives a reproducible path.
//
// SelectPath chooses hops from a directory of candidates under these
// constraints, all of which hold for every path it returns:
//
//   - the path has exactly the requested number of hops (1..onion.MaxHops),
//     ending at the requested end node when one is given;
//   - the first hop shares an allowed network with the sender, and each
//     pair of consecutive hops shares an allowed network;
//   - no node appears twice, and no excluded node appears;
//   - no two hops (nor a hop and the sender) share a group label: a /16
//     IPv4 or /32 IPv6 prefix of their addresses, or an operator tag.
//
// Among valid paths the choice is random, each hop weighted by its
// candidate's Weight. The search is complete up to a step budget: when it
// returns an error wrapping ErrNoPath, no valid path exists (or, for very
// large adversarial directories, the budget ran out, which the error says),
// and the *PathError names the hop that could not be filled and how many
// candidates each constraint ruled out.
//
// Allowed networks are an ordered preference: SelectPath first looks for a
// path using only the first network, then the first two, and so on, so a
// path uses a less preferred network only when it must. LinkNetworks names
// the network each link of a chosen path uses.
package router
