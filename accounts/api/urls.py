from django.urls import path

from accounts.api import mfa, passkeys, views

app_name = "accounts_api"

# Under /api/v1/auth/ (authsite/urls.py): a path outside it (the profile,
# /config) is refused by that one prefix instead of by every pattern here.
urlpatterns = [
    # The hot paths first: Django tries the patterns in order (issue 21).
    path("me", views.MeView.as_view(), name="me"),
    path("token/refresh", views.TokenRefreshView.as_view(), name="token_refresh"),
    path("signup", views.SignupView.as_view(), name="signup"),
    path("signup/verify", views.SignupVerifyView.as_view(), name="signup_verify"),
    path("login", views.LoginView.as_view(), name="login"),
    path("otp/request", views.CodeRequestView.as_view(), name="otp_request"),
    path("otp/verify", views.CodeVerifyView.as_view(), name="otp_verify"),
    path("otp/resend", views.CodeResendView.as_view(), name="otp_resend"),
    path("token/verify", views.TokenVerifyView.as_view(), name="token_verify"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("sessions", views.SessionListView.as_view(), name="sessions"),
    path(
        "sessions/<uuid:session_id>",
        views.SessionDetailView.as_view(),
        name="session_detail",
    ),
]

urlpatterns += [
    path("password/forgot", views.PasswordForgotView.as_view(), name="password_forgot"),
    path(
        "password/forgot/verify",
        views.PasswordForgotVerifyView.as_view(),
        name="password_forgot_verify",
    ),
    path("password/reset", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/change", views.PasswordChangeView.as_view(), name="password_change"),
    path("contact/change", views.ContactChangeView.as_view(), name="contact_change"),
    path("contact/verify", views.ContactVerifyView.as_view(), name="contact_verify"),
    path("events", views.EventListView.as_view(), name="events"),
    path("events/<int:event_id>/not-me", views.EventNotMeView.as_view(), name="event_not_me"),
    path("account/export", views.AccountExportView.as_view(), name="account_export"),
    path("account", views.AccountView.as_view(), name="account"),
]

urlpatterns += [
    path("mfa", mfa.MfaView.as_view(), name="mfa"),
    path("mfa/verify", mfa.MfaVerifyView.as_view(), name="mfa_verify"),
    path("mfa/challenge", mfa.MfaChallengeView.as_view(), name="mfa_challenge"),
    path("mfa/totp/setup", mfa.TotpSetupView.as_view(), name="mfa_totp_setup"),
    path("mfa/totp/confirm", mfa.TotpConfirmView.as_view(), name="mfa_totp_confirm"),
    path("mfa/totp", mfa.TotpView.as_view(), name="mfa_totp"),
    path("mfa/code", mfa.CodeFactorView.as_view(), name="mfa_code"),
    path("mfa/recovery-codes", mfa.RecoveryCodesView.as_view(), name="mfa_recovery_codes"),
    path("reauthenticate", mfa.ReauthenticateView.as_view(), name="reauthenticate"),
    path("reauthenticate/code", mfa.ReauthenticateCodeView.as_view(), name="reauthenticate_code"),
]

urlpatterns += [
    path("passkeys", passkeys.PasskeyListView.as_view(), name="passkeys"),
    path(
        "passkeys/register/options",
        passkeys.PasskeyRegisterOptionsView.as_view(),
        name="passkey_register_options",
    ),
    path("passkeys/register", passkeys.PasskeyRegisterView.as_view(), name="passkey_register"),
    path(
        "passkeys/login/options",
        passkeys.PasskeyLoginOptionsView.as_view(),
        name="passkey_login_options",
    ),
    path("passkeys/login", passkeys.PasskeyLoginView.as_view(), name="passkey_login"),
    path("passkeys/<int:passkey_id>", passkeys.PasskeyDetailView.as_view(), name="passkey"),
    path(
        "reauthenticate/passkey/options",
        passkeys.ReauthPasskeyOptionsView.as_view(),
        name="reauthenticate_passkey_options",
    ),
]
