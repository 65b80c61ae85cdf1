package i2pnet

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// i2pB64 is I2P's base64 alphabet ('-' and '~' for '+' and '/').
var i2pB64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~")

// identityFixed is the fixed part of a router identity: 256 bytes of
// encryption key and 128 of signing key (or their padding), then the
// certificate's type (1) and length (2).
const identityFixed = 256 + 128 + 3

// IdentityHash returns the I2P base64 of the SHA-256 of the router
// identity at the start of a router.info: the name i2pd and Java I2P give
// a router ("routerInfo-<hash>.dat" in a reseed bundle).
func IdentityHash(routerInfo []byte) (string, error) {
	if len(routerInfo) < identityFixed {
		return "", fmt.Errorf("i2pnet: router.info: %d bytes, shorter than an identity", len(routerInfo))
	}
	certLen := int(binary.BigEndian.Uint16(routerInfo[identityFixed-2 : identityFixed]))
	n := identityFixed + certLen
	if len(routerInfo) < n {
		return "", fmt.Errorf("i2pnet: router.info: certificate of %d bytes runs past the end", certLen)
	}
	if routerInfo[identityFixed-3] > 5 {
		return "", fmt.Errorf("i2pnet: router.info: unknown certificate type %d", routerInfo[identityFixed-3])
	}
	sum := sha256.Sum256(routerInfo[:n])
	return i2pB64.EncodeToString(sum[:]), nil
}

// WriteSeedZip writes a reseed bundle: each router.info stored
// uncompressed, without data descriptors (i2pd's zip reader wants sizes
// in the local headers), as routerInfo-<identity hash>.dat.
func WriteSeedZip(w io.Writer, routerInfos [][]byte) error {
	if len(routerInfos) == 0 {
		return errors.New("i2pnet: seed zip: no router infos")
	}
	zw := zip.NewWriter(w)
	for _, ri := range routerInfos {
		h, err := IdentityHash(ri)
		if err != nil {
			return err
		}
		fh := &zip.FileHeader{Name: "routerInfo-" + h + ".dat", Method: zip.Store,
			CRC32: crc32.ChecksumIEEE(ri), CompressedSize64: uint64(len(ri)), UncompressedSize64: uint64(len(ri))}
		fh.Modified = time.Now().UTC()
		fw, err := zw.CreateRaw(fh)
		if err != nil {
			return fmt.Errorf("i2pnet: seed zip: %w", err)
		}
		if _, err := fw.Write(ri); err != nil {
			return fmt.Errorf("i2pnet: seed zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("i2pnet: seed zip: %w", err)
	}
	return nil
}
