"""SPEC M-5: a recipient's site, language and time zone.

The site follows the address's domain when it is a country's (``@orange.fr`` → France), else
the buyer's own site; the language is that site's (``buyers.models.site_language``) and the
time zone the site's main one (Decision: one zone per site; the global site sends in UTC).
"""

from buyers.models import site_language

# Country-code top-level domains of the sites (and the big national mail providers under .com).
DOMAIN_SITES = {
    "fr": "fr",
    "es": "es",
    "de": "de",
    "it": "it",
    "nl": "nl",
    "pl": "pl",
    "ru": "ru",
    "br": "br",
    "kr": "kr",
    "jp": "jp",
    "cn": "cn",
}
PROVIDER_SITES = {
    "orange.fr": "fr",
    "free.fr": "fr",
    "laposte.net": "fr",
    "yandex.com": "ru",
    "mail.ru": "ru",
    "qq.com": "cn",
    "163.com": "cn",
    "126.com": "cn",
    "naver.com": "kr",
    "uol.com.br": "br",
    "web.de": "de",
    "gmx.de": "de",
}
SITE_TIME_ZONES = {
    "global": "UTC",
    "us": "America/New_York",
    "fr": "Europe/Paris",
    "es": "Europe/Madrid",
    "de": "Europe/Berlin",
    "it": "Europe/Rome",
    "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw",
    "ru": "Europe/Moscow",
    "br": "America/Sao_Paulo",
    "kr": "Asia/Seoul",
    "jp": "Asia/Tokyo",
    "cn": "Asia/Shanghai",
}


def site_for(email: str, fallback: str = "") -> str:
    """SPEC M-5: the site of ``email`` from its domain, else ``fallback`` (the buyer's site)."""
    domain = email.rpartition("@")[2].casefold()
    if domain in PROVIDER_SITES:
        return PROVIDER_SITES[domain]
    tld = domain.rpartition(".")[2]
    return DOMAIN_SITES.get(tld) or fallback or "global"


def time_zone_for(site: str) -> str:
    return SITE_TIME_ZONES.get(site, "UTC")


def language_for(site: str) -> str:
    return site_language(site)
