package policy

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/onemfive/onemfive/sdk/envelope"
)

//go:embed jurisdictions.csv
var jurisdictionsCSV []byte

// ErrUnknownCountry is returned by Recommend for a country not in the table.
var ErrUnknownCountry = errors.New("no recommendation for country")

// Source says where a recommendation comes from.
type Source struct {
	Index    string // "RSF World Press Freedom Index"
	Year     int
	URL      string
	Country  string // the table's name for the country
	ISO2     string
	Category string // the index's situation category, e.g. "problematic"
}

// categoryLevels maps the index's categories to levels.
var categoryLevels = map[string]envelope.ManCon{
	"good":         envelope.LOW,
	"satisfactory": envelope.MEDIUM,
	"problematic":  envelope.HIGH,
	"difficult":    envelope.VERYHIGH,
	"very serious": envelope.EXTREME,
}

type jurisdiction struct {
	src   Source
	level envelope.ManCon
}

type jurisdictions struct {
	byKey map[string]*jurisdiction
	all   []*jurisdiction
}

var loadJurisdictions = sync.OnceValues(func() (*jurisdictions, error) {
	return parseJurisdictions(jurisdictionsCSV)
})

func normCountry(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func parseJurisdictions(b []byte) (*jurisdictions, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	r.FieldsPerRecord = 5
	j := &jurisdictions{byKey: map[string]*jurisdiction{}}
	header := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("policy: jurisdictions: %w", err)
		}
		if header {
			header = false
			continue
		}
		lvl, ok := categoryLevels[rec[4]]
		if !ok {
			return nil, fmt.Errorf("policy: jurisdictions: %s: unknown category %q", rec[2], rec[4])
		}
		e := &jurisdiction{level: lvl, src: Source{
			Index: "RSF World Press Freedom Index", Year: 2020, URL: "https://rsf.org/en/index?year=2020",
			Country: rec[2], ISO2: rec[0], Category: rec[4],
		}}
		keys := []string{rec[0], rec[1], rec[2]}
		if rec[3] != "" {
			keys = append(keys, strings.Split(rec[3], ";")...)
		}
		for _, k := range keys {
			k = normCountry(k)
			if k == "" {
				continue
			}
			if prev, dup := j.byKey[k]; dup && prev != e {
				return nil, fmt.Errorf("policy: jurisdictions: %q names both %s and %s", k, prev.src.Country, rec[2])
			}
			j.byKey[k] = e
		}
		j.all = append(j.all, e)
	}
	return j, nil
}

// Recommend returns the recommended base level for a country, given as an
// ISO 3166-1 alpha-2 or alpha-3 code or an English name (case-insensitive),
// with its source. A country not in the table is ErrUnknownCountry: no
// recommendation rather than a guess.
func Recommend(country string) (envelope.ManCon, Source, error) {
	j, err := loadJurisdictions()
	if err != nil {
		return envelope.ManConUnset, Source{}, err
	}
	e, ok := j.byKey[normCountry(country)]
	if !ok {
		return envelope.ManConUnset, Source{}, fmt.Errorf("policy: recommend: %w %q", ErrUnknownCountry, country)
	}
	return e.level, e.src, nil
}
