from django.urls import path

from accounts.api import mfa, passkeys, views

app_name = "accounts_api"

urlpatterns = [
    # The hot paths first: Django tries the patterns in order (issue 21).
    path("auth/me", views.MeView.as_view(), name="me"),
    path("auth/token/refresh", views.TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/signup", views.SignupView.as_view(), name="signup"),
    path("auth/signup/verify", views.SignupVerifyView.as_view(), name="signup_verify"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("auth/otp/request", views.CodeRequestView.as_view(), name="otp_request"),
    path("auth/otp/verify", views.CodeVerifyView.as_view(), name="otp_verify"),
    path("auth/otp/resend", views.CodeResendView.as_view(), name="otp_resend"),
    path("auth/token/verify", views.TokenVerifyView.as_view(), name="token_verify"),
    path("auth/logout", views.LogoutView.as_view(), name="logout"),
    path("auth/sessions", views.SessionListView.as_view(), name="sessions"),
    path(
        "auth/sessions/<uuid:session_id>",
        views.SessionDetailView.as_view(),
        name="session_detail",
    ),
]

urlpatterns += [
    path("auth/password/forgot", views.PasswordForgotView.as_view(), name="password_forgot"),
    path(
        "auth/password/forgot/verify",
        views.PasswordForgotVerifyView.as_view(),
        name="password_forgot_verify",
    ),
    path("auth/password/reset", views.PasswordResetView.as_view(), name="password_reset"),
    path("auth/password/change", views.PasswordChangeView.as_view(), name="password_change"),
    path("auth/contact/change", views.ContactChangeView.as_view(), name="contact_change"),
    path("auth/contact/verify", views.ContactVerifyView.as_view(), name="contact_verify"),
    path("auth/events", views.EventListView.as_view(), name="events"),
    path("auth/events/<int:event_id>/not-me", views.EventNotMeView.as_view(), name="event_not_me"),
    path("auth/account/export", views.AccountExportView.as_view(), name="account_export"),
    path("auth/account", views.AccountView.as_view(), name="account"),
]

urlpatterns += [
    path("auth/mfa", mfa.MfaView.as_view(), name="mfa"),
    path("auth/mfa/verify", mfa.MfaVerifyView.as_view(), name="mfa_verify"),
    path("auth/mfa/challenge", mfa.MfaChallengeView.as_view(), name="mfa_challenge"),
    path("auth/mfa/totp/setup", mfa.TotpSetupView.as_view(), name="mfa_totp_setup"),
    path("auth/mfa/totp/confirm", mfa.TotpConfirmView.as_view(), name="mfa_totp_confirm"),
    path("auth/mfa/totp", mfa.TotpView.as_view(), name="mfa_totp"),
    path("auth/mfa/code", mfa.CodeFactorView.as_view(), name="mfa_code"),
    path("auth/mfa/recovery-codes", mfa.RecoveryCodesView.as_view(), name="mfa_recovery_codes"),
    path("auth/reauthenticate", mfa.ReauthenticateView.as_view(), name="reauthenticate"),
    path(
        "auth/reauthenticate/code", mfa.ReauthenticateCodeView.as_view(), name="reauthenticate_code"
    ),
]

urlpatterns += [
    path("auth/passkeys", passkeys.PasskeyListView.as_view(), name="passkeys"),
    path(
        "auth/passkeys/register/options",
        passkeys.PasskeyRegisterOptionsView.as_view(),
        name="passkey_register_options",
    ),
    path("auth/passkeys/register", passkeys.PasskeyRegisterView.as_view(), name="passkey_register"),
    path(
        "auth/passkeys/login/options",
        passkeys.PasskeyLoginOptionsView.as_view(),
        name="passkey_login_options",
    ),
    path("auth/passkeys/login", passkeys.PasskeyLoginView.as_view(), name="passkey_login"),
    path("auth/passkeys/<int:passkey_id>", passkeys.PasskeyDetailView.as_view(), name="passkey"),
    path(
        "auth/reauthenticate/passkey/options",
        passkeys.ReauthPasskeyOptionsView.as_view(),
        name="reauthenticate_passkey_options",
    ),
]
