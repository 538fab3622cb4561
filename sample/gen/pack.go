package main

// packSample is filled in once the packer exists.
func packSample(dir string) error { return nil }
