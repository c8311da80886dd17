"""``{% load devices %}``: ``{{ user_agent|device }}`` gives "Chrome on Android";
``{{ user_agent|device_recognised }}`` tells whether it is more than "Unknown device"."""

from django import template

from accounts.devices import device_describe, device_recognised

register = template.Library()


@register.filter(name="device")
def device_filter(user_agent: str | None) -> str:
    return device_describe(user_agent=user_agent)


@register.filter(name="device_recognised")
def device_recognised_filter(user_agent: str | None) -> bool:
    return device_recognised(user_agent=user_agent)
