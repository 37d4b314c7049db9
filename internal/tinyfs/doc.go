// Package tinyfs gives tests a real small file system to fill: tests run as
// root, where chmod blocks nothing, so a tmpfs of a few megabytes, remounted
// read-only when needed, is the honest way to make writes fail. It is for
// tests only.
package tinyfs
