import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { Form, OutcomeView, Screen, outcomeOf, type Outcome } from '../ui';

interface MfaSettings {
  required: boolean;
  allowedMethods: string[];
  codeTtlSeconds: number;
  maxAttempts: number;
  maxResends: number;
  rememberDeviceDays: number;
  updatedAt?: string;
}

/** The organization's MFA settings: whether a second factor is required, which methods, code limits, remembered devices. */
export function MfaSettingsScreen() {
  const [settings, setSettings] = useState<MfaSettings | undefined>(undefined);
  const [problem, setProblem] = useState<Outcome | undefined>(undefined);
  const load = async () => {
    const answer = await call<MfaSettings>('GET', '/v1/mfa/settings');
    if (answer.ok) setSettings(answer.body);
    else setProblem(outcomeOf(answer));
  };
  useEffect(() => void load(), []);
  return (
    <Screen title="MFA settings" intro="These apply to every person of your organization at sign-in.">
      <OutcomeView outcome={problem} />
      {settings && (
        <Form
          key={settings.updatedAt ?? 'settings'}
          title="Second factor"
          submitLabel="Save MFA settings"
          fields={[
            { name: 'required', label: 'Require a second factor', kind: 'checkbox', initial: settings.required },
            { name: 'allowedMethods', label: 'Allowed methods', kind: 'choices', options: [{ value: 'app', label: 'Authenticator app' }, { value: 'email', label: 'E-mail code' }, { value: 'sms', label: 'SMS code' }], initial: settings.allowedMethods },
            { name: 'codeTtlSeconds', label: 'Code lifetime (seconds, 60 to 900)', kind: 'number', initial: String(settings.codeTtlSeconds) },
            { name: 'maxAttempts', label: 'Wrong codes before the lock (1 to 10)', kind: 'number', initial: String(settings.maxAttempts) },
            { name: 'maxResends', label: 'Codes sent per sign-in (0 to 10)', kind: 'number', initial: String(settings.maxResends) },
            { name: 'rememberDeviceDays', label: 'Remember a device for (days, 0 = never)', kind: 'number', initial: String(settings.rememberDeviceDays) },
          ]}
          onSubmit={async (body) => outcomeOf(await call('PUT', '/v1/mfa/settings', body), 'MFA settings saved.')}
          after={() => void load()}
        />
      )}
    </Screen>
  );
}
