package policy

import (
	"errors"
	"testing"

	"github.com/onemfive/onemfive/sdk/envelope"
)

func TestRecommendSeedExamples(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want envelope.ManCon
	}{
		{"Norway", envelope.LOW}, {"NO", envelope.LOW}, {"nor", envelope.LOW},
		{"United States", envelope.MEDIUM}, {"us", envelope.MEDIUM}, {"USA", envelope.MEDIUM}, {" united  states of america ", envelope.MEDIUM},
		{"Brazil", envelope.HIGH}, {"BR", envelope.HIGH},
		{"Russia", envelope.VERYHIGH}, {"RU", envelope.VERYHIGH}, {"Russian Federation", envelope.VERYHIGH},
		{"China", envelope.EXTREME}, {"CN", envelope.EXTREME}, {"chn", envelope.EXTREME},
		// Further examples the original README gives, where the index agrees.
		{"Costa Rica", envelope.LOW}, {"Jamaica", envelope.LOW}, {"Ireland", envelope.LOW},
		{"Australia", envelope.MEDIUM}, {"France", envelope.MEDIUM}, {"UK", envelope.MEDIUM},
		{"Greece", envelope.HIGH}, {"Poland", envelope.HIGH},
		{"Mexico", envelope.VERYHIGH}, {"Venezuela", envelope.VERYHIGH}, {"India", envelope.VERYHIGH}, {"Turkey", envelope.VERYHIGH},
		{"North Korea", envelope.EXTREME}, {"Iran", envelope.EXTREME}, {"Saudi Arabia", envelope.EXTREME}, {"Egypt", envelope.EXTREME},
	} {
		got, src, err := Recommend(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Recommend(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
			continue
		}
		if src.Year != 2020 || src.Index == "" || src.ISO2 == "" || categoryLevels[src.Category] != got {
			t.Errorf("Recommend(%q) source %+v", tc.in, src)
		}
	}
}

func TestRecommendTable(t *testing.T) {
	j, err := loadJurisdictions()
	if err != nil {
		t.Fatal(err)
	}
	if len(j.all) < 60 {
		t.Fatalf("%d countries, want at least 60", len(j.all))
	}
	seen := map[envelope.ManCon]bool{}
	for _, e := range j.all {
		seen[e.level] = true
		if len(e.src.ISO2) != 2 {
			t.Errorf("%s: iso2 %q", e.src.Country, e.src.ISO2)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("levels used: %v", seen)
	}
	if _, _, err := Recommend("Atlantis"); !errors.Is(err, ErrUnknownCountry) {
		t.Fatalf("unknown country: %v", err)
	}
	if _, err := parseJurisdictions([]byte("h,h,h,h,h\nXX,XXX,X,,bad\n")); err == nil {
		t.Fatal("bad category accepted")
	}
}
