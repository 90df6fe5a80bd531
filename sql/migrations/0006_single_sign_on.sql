-- Single sign-on: a user's accounts at OpenID Connect providers, by the provider's issuer and the
-- subject it names them by (stable, unlike an email address). Users provisioned through a provider
-- have no local password: only local accounts (the break-glass admin) sign in with one.
CREATE TABLE user_identity (
    issuer          text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id         uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject),
    UNIQUE (user_id, issuer)
);

ALTER TABLE app_user ALTER COLUMN password_hash DROP NOT NULL;
