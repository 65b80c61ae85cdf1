package router

import "time"

func t0() time.Time { return time.Unix(1_900_000_000, 0) }
