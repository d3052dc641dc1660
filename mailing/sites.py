"""SPEC M-5: a recipient's site, language and time zone.

The site follows the address's domain when it is a country's (``@orange.fr`` → France), else
the buyer's own site; the language is that site's (``buyers.models.site_language``) and the
time zone the site's main one (Decision: one zone per site; the global site sends in UTC). A
recipient with no recorded country has their site's (SPEC M-3: for double opt-in).
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


# The country of each site (the global site has none).
SITE_COUNTRIES = {
    "us": "US",
    "fr": "FR",
    "es": "ES",
    "de": "DE",
    "it": "IT",
    "nl": "NL",
    "pl": "PL",
    "ru": "RU",
    "br": "BR",
    "kr": "KR",
    "jp": "JP",
    "cn": "CN",
}


def domain_site(email: str) -> str:
    """The site an address's domain names (``@orange.fr`` → fr), or "" when it names none."""
    domain = email.rpartition("@")[2].casefold()
    if domain in PROVIDER_SITES:
        return PROVIDER_SITES[domain]
    tld = domain.rpartition(".")[2]
    return DOMAIN_SITES.get(tld, "")


def site_for(email: str, fallback: str = "") -> str:
    """SPEC M-5: the site of ``email`` from its domain, else ``fallback`` (the buyer's site)."""
    return domain_site(email) or fallback or "global"


def domain_suffixes(site: str) -> list[str]:
    """The address endings ``domain_site`` maps to ``site`` (for SQL: ``segments``)."""
    out = [f"@{d}" for d, s in PROVIDER_SITES.items() if s == site]
    for tld, s in DOMAIN_SITES.items():
        if s == site:
            out += [f".{tld}", f"@{tld}"]
    return out


def country_for(*, country: str, email: str, site: str) -> str:
    """SPEC M-3, M-5: the recipient's country — the one recorded, else the country of their
    site (the address's domain, else the site given); "" when still unknown."""
    if country and country.strip():
        return country.strip().upper()
    return SITE_COUNTRIES.get(site_for(email or "", site or ""), "")


def needs_double_opt_in(*, country: str, email: str, site: str, countries) -> bool:
    """SPEC M-3: whether the recipient needs double opt-in — their country (``country_for``) is
    one of ``countries``, or is unknown (an unknown country is treated as one that needs it)."""
    if not countries:
        return False
    known = country_for(country=country, email=email, site=site)
    return not known or known in countries


def time_zone_for(site: str) -> str:
    return SITE_TIME_ZONES.get(site, "UTC")


def language_for(site: str) -> str:
    return site_language(site)
