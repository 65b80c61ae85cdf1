// Package i2pnet generates and runs a private I2P network on 127.0.0.1:
// three or more i2pd routers (some of them floodfills) with a private net
// id, seeded from a reseed zip this package makes from the routers' own
// router.info files. Tests use it to run the i2p transport plugin against
// real i2pd; `onemfive testnet i2p up|down|env` runs it for people.
//
// Guarantees:
//   - Start refuses to run i2pd unless the process is in a network
//     namespace whose only interface is loopback (Isolated), and every
//     router it configures has reseed URLs emptied, reseeds from the local
//     zip only, and turns off UPnP, clock sync and address-book downloads.
//   - Start refuses an i2pd older than 2.51 (i2pd.Find), naming the
//     version found and scripts/install-i2pd.sh.
//   - Start returns once every router knows every other router and has a
//     transport session up (asked over each router's I2PControl), and,
//     with SAM, once each SAM bridge answers; or it fails and stops
//     whatever it started.
//   - Stop kills every process Start started, by pid, and waits for them.
//     Processes get a parent-death signal unless Detach is set; Down stops
//     a detached network by the pids in its pid file, checking each
//     command line still names the network's directory.
//   - ClientOptions are the i2pd settings another router (the plugin's
//     own i2pd) needs to join the network.
package i2pnet
