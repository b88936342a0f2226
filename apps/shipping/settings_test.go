package main

import "testing"

func env(values map[string]string) func(string) string {
	return func(name string) string { return values[name] }
}

func TestSettingsDefaultToThePortsOfDaprYaml(t *testing.T) {
	settings, err := settingsFromEnv(env(nil))
	if err != nil || settings != (Settings{AppPort: 8004, DaprGRPCPort: 50001}) {
		t.Fatalf("%+v %v", settings, err)
	}
}

func TestSettingsRefuseABadPort(t *testing.T) {
	if _, err := settingsFromEnv(env(map[string]string{"APP_PORT": "eighty"})); err == nil {
		t.Fatal("APP_PORT=eighty was accepted")
	}
}
