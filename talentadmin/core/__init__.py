"""What every feature uses: validators, SMS, captcha, audit, counters, i18n, security."""
