__version__ = "0.2.0"

#: Bumped whenever the harness changes how episodes run or score (goes into every configuration hash, so records of
#: an older protocol are never mixed with new ones). The package version is not hashed: a release that changes
#: nothing about outcomes keeps every recorded episode valid.
PROTOCOL_VERSION = "2"
