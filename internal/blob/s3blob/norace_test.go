//go:build !race

package s3blob

const raceEnabled = false
