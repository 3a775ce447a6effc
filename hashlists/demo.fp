# ClamAV false-positive (allowlist) signatures: files known to be good.
ad5148579e2a0886849021264351a52a:9559:Demo.Q0291.KnownGood
