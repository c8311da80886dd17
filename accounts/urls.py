from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("verify/", views.SignupVerifyView.as_view(), name="verify"),
    path("code/resend/", views.CodeResendView.as_view(), name="code_resend"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.LoginCodeView.as_view(), name="login_code"),
    path("login/code/verify/", views.LoginCodeVerifyView.as_view(), name="login_code_verify"),
    path("login/mfa/", views.LoginMfaView.as_view(), name="login_mfa"),
    path(
        "login/mfa/passkey/options/",
        views.LoginMfaPasskeyOptionsView.as_view(),
        name="login_mfa_passkey_options",
    ),
    path("login/passkey/", views.LoginPasskeyView.as_view(), name="login_passkey"),
    path(
        "login/passkey/options/",
        views.LoginPasskeyOptionsView.as_view(),
        name="login_passkey_options",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/forgot/", views.PasswordForgotView.as_view(), name="password_forgot"),
    path(
        "password/forgot/verify/",
        views.PasswordForgotVerifyView.as_view(),
        name="password_forgot_verify",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("contact/", views.ContactView.as_view(), name="contact"),
    path("contact/verify/", views.ContactVerifyView.as_view(), name="contact_verify"),
    path("sessions/", views.SessionsView.as_view(), name="sessions"),
    path(
        "sessions/<uuid:session_id>/revoke/",
        views.SessionRevokeView.as_view(),
        name="session_revoke",
    ),
    path(
        "sessions/revoke-others/",
        views.SessionsRevokeOthersView.as_view(),
        name="sessions_revoke_others",
    ),
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("activity/<int:event_id>/not-me/", views.EventNotMeView.as_view(), name="event_not_me"),
    path("delete/", views.AccountDeleteView.as_view(), name="delete"),
    path("mfa/", views.MfaView.as_view(), name="mfa"),
    path("mfa/totp/", views.MfaTotpView.as_view(), name="mfa_totp"),
    path("mfa/code/", views.MfaCodeFactorView.as_view(), name="mfa_code"),
    path("mfa/recovery-codes/", views.MfaRecoveryCodesView.as_view(), name="mfa_recovery_codes"),
    path("reauthenticate/", views.ReauthenticateView.as_view(), name="reauthenticate"),
    path(
        "reauthenticate/passkey/options/",
        views.ReauthPasskeyOptionsView.as_view(),
        name="reauth_passkey_options",
    ),
    path("passkeys/", views.PasskeysView.as_view(), name="passkeys"),
    path(
        "passkeys/options/",
        views.PasskeyRegisterOptionsView.as_view(),
        name="passkey_register_options",
    ),
    path(
        "passkeys/offer/dismiss/",
        views.PasskeyOfferDismissView.as_view(),
        name="passkey_offer_dismiss",
    ),
]

urlpatterns += [
    path("not-me/<str:token>/", views.NewDeviceNotMeView.as_view(), name="new_device_not_me"),
]
