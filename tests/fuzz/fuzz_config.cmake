chsm_fuzzer(config DEPS chsm_config)
