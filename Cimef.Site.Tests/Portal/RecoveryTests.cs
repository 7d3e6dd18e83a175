using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// « Clé ou mot de passe perdu ? »: a code by SMS (or e-mail) to the address registered at the clinic, the choice of an
/// access, a new password shown once — through the JSON API and the pages without JavaScript — and every bad input
/// and attack the feature must survive (same answer and time for unknown numbers, dead codes, one-use tokens, limits).
/// </summary>
public partial class RecoveryTests : IClassFixture<CimefFactory>
{
    private const string Recover = "/api/patients/portal/recover/";
    private const string Verify = "/api/patients/portal/recover/verify/";
    private const string Reset = "/api/patients/portal/recover/reset/";
    private static int _numbers;
    private readonly CimefFactory _factory;

    public RecoveryTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    /// <summary>A mobile number no other test of the class uses: national form « 78 000 00 01 » and its E.164.</summary>
    private static (string National, string E164) NewNumber()
    {
        var digits = $"78{Interlocked.Increment(ref _numbers):D7}";
        return ($"{digits[..2]} {digits[2..5]} {digits[5..7]} {digits[7..]}", "+221" + digits);
    }

    [GeneratedRegex(@"\b(\d{6})\b")]
    private static partial Regex SixDigits();

    /// <summary>Sends what the outbox holds and returns the SMS texts written for <paramref name="e164"/> (no provider: the pickup folder).</summary>
    private async Task<List<string>> SmsToAsync(string e164) =>
        (await NewFilesAsync("sms-pickup")).Select(File.ReadAllText).Where(t => t.StartsWith($"To: {e164}\n", StringComparison.Ordinal))
            .Select(t => t[(t.IndexOf("\n\n", StringComparison.Ordinal) + 2)..].TrimEnd()).ToList();

    private async Task<List<string>> MailsToAsync(string address) =>
        (await NewFilesAsync("mail-pickup")).Select(f => MimeKit.MimeMessage.Load(f))
            .Where(m => m.To.Mailboxes.Any(b => b.Address == address)).Select(m => m.Subject + "\n" + m.TextBody).ToList();

    private readonly HashSet<string> _read = [];

    /// <summary>Sends what the outbox holds; the pickup files written since the last look (seeding's credentials first drained).</summary>
    private async Task<List<string>> NewFilesAsync(string folder)
    {
        await _factory.ProcessOutboxAsync();
        var dir = Path.Combine(_factory.DataDir, folder);
        if (!Directory.Exists(dir)) return [];
        lock (_read) return Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.') && _read.Add(f)).ToList();
    }

    /// <summary>A patient seeded with the number, their credentials messages already sent (and so not read as codes).</summary>
    private async Task<TestPatient> SeedAsync(string? name = null, string? phone = null, string? email = "patient@example.sn")
    {
        var p = await _factory.Data.PatientAsync(name, phone: phone, email: email);
        await NewFilesAsync("sms-pickup");
        await NewFilesAsync("mail-pickup");
        return p;
    }

    private async Task<string> CodeSentToAsync(string e164) => SixDigits().Match((await SmsToAsync(e164)).Last()).Groups[1].Value;

    private static object Phone(string phone) => new Dictionary<string, string> { ["phone"] = phone };

    private static object PhoneCode(string phone, string code) => new Dictionary<string, string> { ["phone"] = phone, ["code"] = code };

    private static object ResetBody(string token, int accessId) => new Dictionary<string, object> { ["recovery_token"] = token, ["access_id"] = accessId };

    private static string Other(string code) => ((int.Parse(code) + 1) % 1_000_000).ToString("D6");

    [Fact]
    public async Task A_mother_recovers_her_childs_access_by_sms_with_her_number_typed_in_another_format()
    {
        var number = NewNumber();
        var mother = await SeedAsync("Awa Diop", phone: number.E164, email: "awa.diop@example.sn");
        var child = await SeedAsync("Moussa Ndiaye", phone: number.E164, email: "awa.diop@example.sn");
        await _factory.Data.ReportAsync(child, "Radiographie du poignet");
        var childSession = await _factory.PatientClientAsync(child);
        var client = _factory.NewClient();

        var asked = await client.PostJsonAsync(Recover, Phone(number.National));
        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        Assert.Equal("Si ce numéro est enregistré chez CIMEF, un code vient de vous être envoyé par SMS.", (await asked.JsonAsync()).GetProperty("message").GetString());
        var sms = Assert.Single(await SmsToAsync(number.E164));
        var code = SixDigits().Match(sms).Groups[1].Value;
        Assert.StartsWith($"CIMEF : votre code est {code}. Il expire dans 10 minutes. Ne le donnez à personne.", sms);
        Assert.DoesNotContain(child.Key[^4..], sms);
        Assert.DoesNotContain("Moussa", sms);

        var verified = await client.PostJsonAsync(Verify, PhoneCode("00221" + number.E164[4..], code));
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var body = await verified.JsonAsync();
        var token = body.GetProperty("recovery_token").GetString()!;
        var accesses = body.GetProperty("accesses").EnumerateArray().ToList();
        Assert.Equal(2, accesses.Count);
        var childRow = accesses.Single(a => a.GetProperty("id").GetInt32() == child.AccessId);
        Assert.Equal($"M. N. — …{child.Key[^4..]}", childRow.GetProperty("label").GetString());
        Assert.True(childRow.GetProperty("recoverable").GetBoolean());
        Assert.DoesNotContain(child.Key, body.GetRawText());

        var reset = await client.PostJsonAsync(Reset, ResetBody(token, child.AccessId!.Value));
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var renewed = await reset.JsonAsync();
        Assert.Equal(child.Key, renewed.GetProperty("access_key").GetString());
        var password = renewed.GetProperty("password").GetString()!;
        Assert.NotEqual(child.Password, password);

        // Signed in as the child; the child's old session ended; the old password is refused, the new one works.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/patients/portal/profile/")).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await childSession.GetAsync("/patient/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _factory.NewClient().LoginJsonAsync(child.Key, child.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.NewClient().LoginJsonAsync(child.Key, password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.NewClient().LoginJsonAsync(mother.Key, mother.Password)).StatusCode);

        // Everyone is told: the audit (no secret in it), the child's history, an e-mail (the code went by SMS), the staff page.
        var audit = await _factory.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == AccessProvisioning.RecoverAction && a.EntityId == child.AccessId.ToString()));
        Assert.DoesNotContain(password, audit.Detail);
        Assert.DoesNotContain(code, audit.Detail);
        Assert.DoesNotContain(child.Key, audit.Detail);
        Assert.Contains("SMS", audit.Detail);
        var history = await (await client.GetAsync("/patient/history")).TextAsync();
        Assert.Contains("Mot de passe renouvelé depuis un téléphone", history);
        var mail = Assert.Single(await MailsToAsync("awa.diop@example.sn"), m => m.Contains("renouvelé"));
        Assert.Contains($"…{child.Key[^4..]}", mail);
        Assert.DoesNotContain(password, mail);
        var staff = await _factory.StaffClientAsync(Roles.Secretary);
        var page = await (await staff.GetAsync($"/Access/Details/{child.AccessId}")).TextAsync();
        Assert.Contains("Mot de passe renouvelé par le patient depuis un téléphone", page);
    }

    [Fact]
    public async Task An_unknown_number_gets_the_same_answer_in_the_same_time_and_no_message()
    {
        var known = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var number = NewNumber();
            await SeedAsync(phone: number.E164, email: null);
            known.Add(number.National);
        }
        var unknown = Enumerable.Range(0, 7).Select(_ => NewNumber().National).ToList();
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(NewNumber().National)); // warm-up
        var outboxBefore = await _factory.WithDbAsync(db => db.OutboxMessages.CountAsync());

        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        string? knownBody = null, unknownBody = null;
        for (var i = 0; i < known.Count; i++)
        {
            foreach (var (number, times, isKnown) in new[] { (known[i], knownTimes, true), (unknown[i], unknownTimes, false) })
            {
                var watch = Stopwatch.StartNew();
                var response = await client.PostJsonAsync(Recover, Phone(number));
                times.Add(watch.Elapsed.TotalMilliseconds);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                if (isKnown) knownBody = await response.Content.ReadAsStringAsync();
                else unknownBody = await response.Content.ReadAsStringAsync();
            }
        }
        Assert.Equal(knownBody, unknownBody);
        var outboxAfter = await _factory.WithDbAsync(db => db.OutboxMessages.CountAsync());
        Assert.Equal(known.Count, outboxAfter - outboxBefore);
        static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        var ratio = Median(unknownTimes) / Median(knownTimes);
        Assert.True(ratio is >= 0.8 and <= 1.25, $"unknown/known = {ratio:0.00} ({Median(unknownTimes):0.0} ms / {Median(knownTimes):0.0} ms)");
    }

    [Fact]
    public async Task What_an_unknown_number_writes_is_gone_a_day_later()
    {
        var client = _factory.NewClient();
        var unknown = NewNumber();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync(Recover, Phone(unknown.National))).StatusCode);
        Assert.Empty(await SmsToAsync(unknown.E164));
        var hash = _factory.Services.GetRequiredService<CredentialProtector>().RecoveryContactHash("p:" + unknown.E164);
        Assert.Equal(1, await _factory.WithDbAsync(db => db.RecoveryCodes.CountAsync(r => r.ContactHash == hash)));

        _factory.Time.Advance(TimeSpan.FromHours(25));
        await client.PostJsonAsync(Recover, Phone(NewNumber().National));
        Assert.Equal(0, await _factory.WithDbAsync(db => db.RecoveryCodes.CountAsync(r => r.ContactHash == hash)));
    }

    [Fact]
    public async Task Six_wrong_codes_then_the_right_one_is_refused_the_code_is_dead()
    {
        var number = NewNumber();
        await SeedAsync(phone: number.E164);
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(number.National));
        var code = await CodeSentToAsync(number.E164);
        for (var i = 0; i < 6; i++)
        {
            var wrong = await client.PostJsonAsync(Verify, PhoneCode(number.E164, Other(code)));
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("Code incorrect", (await wrong.JsonAsync()).GetProperty("error").GetString());
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Verify, PhoneCode(number.E164, code))).StatusCode);
    }

    [Fact]
    public async Task Five_wrong_codes_kill_the_code_even_for_the_right_one()
    {
        var number = NewNumber();
        await SeedAsync(phone: number.E164);
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(number.National));
        var code = await CodeSentToAsync(number.E164);
        for (var i = 0; i < PatientRecovery.MaxCodeAttempts; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Verify, PhoneCode(number.E164, Other(code)))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Verify, PhoneCode(number.E164, code))).StatusCode);
    }

    [Fact]
    public async Task A_code_sent_to_one_number_opens_nothing_for_another()
    {
        var a = NewNumber();
        var b = NewNumber();
        await SeedAsync(phone: a.E164);
        await SeedAsync(phone: b.E164);
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(a.National));
        await client.PostJsonAsync(Recover, Phone(b.National));
        var codeA = await CodeSentToAsync(a.E164);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Verify, PhoneCode(b.E164, codeA))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync(Verify, PhoneCode(a.E164, codeA))).StatusCode);
    }

    private async Task<(TestPatient Patient, string Token)> TokenAsync(string? email = "patient@example.sn")
    {
        var number = NewNumber();
        var p = await SeedAsync(phone: number.E164, email: email);
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(number.National));
        var verified = await client.PostJsonAsync(Verify, PhoneCode(number.E164, await CodeSentToAsync(number.E164)));
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        return (p, (await verified.JsonAsync()).GetProperty("recovery_token").GetString()!);
    }

    [Fact]
    public async Task A_token_serves_once_and_a_right_code_serves_once()
    {
        var number = NewNumber();
        var p = await SeedAsync(phone: number.E164);
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(number.National));
        var code = await CodeSentToAsync(number.E164);
        var token = (await (await client.PostJsonAsync(Verify, PhoneCode(number.E164, code))).JsonAsync()).GetProperty("recovery_token").GetString()!;
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Verify, PhoneCode(number.E164, code))).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync(Reset, ResetBody(token, p.AccessId!.Value))).StatusCode);
        var again = await client.PostJsonAsync(Reset, ResetBody(token, p.AccessId!.Value));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.False(string.IsNullOrEmpty((await again.JsonAsync()).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task An_expired_token_or_code_is_refused()
    {
        var (p, token) = await TokenAsync();
        _factory.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.BadRequest, (await _factory.NewClient().PostJsonAsync(Reset, ResetBody(token, p.AccessId!.Value))).StatusCode);

        var number = NewNumber();
        await SeedAsync(phone: number.E164);
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(number.National));
        var code = await CodeSentToAsync(number.E164);
        _factory.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Verify, PhoneCode(number.E164, code))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync(Reset, ResetBody("not-a-token", p.AccessId!.Value))).StatusCode);
    }

    [Fact]
    public async Task A_token_cannot_renew_an_access_of_another_number()
    {
        var (_, token) = await TokenAsync();
        var stranger = await SeedAsync(phone: NewNumber().E164);
        var refused = await _factory.NewClient().PostJsonAsync(Reset, ResetBody(token, stranger.AccessId!.Value));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.NewClient().LoginJsonAsync(stranger.Key, stranger.Password)).StatusCode);
    }

    [Fact]
    public async Task A_fourth_code_in_a_day_is_refused_for_a_known_and_an_unknown_number_alike()
    {
        var known = NewNumber();
        await SeedAsync(phone: known.E164);
        var unknown = NewNumber();
        var client = _factory.NewClient();
        foreach (var number in new[] { known, unknown })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync(Recover, Phone(number.National))).StatusCode);
                Assert.Equal(number == known ? 1 : 0, (await SmsToAsync(number.E164)).Count);
            }
            var fourth = await client.PostJsonAsync(Recover, Phone(number.E164));
            Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
            Assert.Contains("Trop de codes", (await fourth.JsonAsync()).GetProperty("error").GetString());
            Assert.True(fourth.Headers.RetryAfter is not null);
        }
        Assert.Empty(await SmsToAsync(known.E164));
        _factory.Time.Advance(TimeSpan.FromHours(24.1));
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync(Recover, Phone(known.National))).StatusCode);
    }

    [Fact]
    public async Task A_compromised_access_is_not_listed_and_a_closed_one_is_listed_but_not_renewed()
    {
        var number = NewNumber();
        var open = await SeedAsync("Awa Diop", phone: number.E164);
        var closed = await SeedAsync("Binta Fall", phone: number.E164);
        var compromised = await SeedAsync("Coumba Sy", phone: number.E164);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var provisioning = sp.GetRequiredService<AccessProvisioning>();
            await provisioning.DeactivateAsync(await db.PatientAccesses.SingleAsync(a => a.Id == closed.AccessId), TestData.System, DeactivationReasons.PatientRequest);
            await provisioning.DeactivateAsync(await db.PatientAccesses.SingleAsync(a => a.Id == compromised.AccessId), TestData.System, DeactivationReasons.Compromised);
            await db.SaveChangesAsync();
        });
        var client = _factory.NewClient();
        await client.PostJsonAsync(Recover, Phone(number.National));
        var body = await (await client.PostJsonAsync(Verify, PhoneCode(number.E164, await CodeSentToAsync(number.E164)))).JsonAsync();
        var rows = body.GetProperty("accesses").EnumerateArray().ToDictionary(a => a.GetProperty("id").GetInt32(), a => a.GetProperty("recoverable").GetBoolean());
        Assert.Equal(2, rows.Count);
        Assert.True(rows[open.AccessId!.Value]);
        Assert.False(rows[closed.AccessId!.Value]);
        Assert.False(rows.ContainsKey(compromised.AccessId!.Value));
        var token = body.GetProperty("recovery_token").GetString()!;
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostJsonAsync(Reset, ResetBody(token, compromised.AccessId!.Value))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostJsonAsync(Reset, ResetBody(token, closed.AccessId!.Value))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync(Reset, ResetBody(token, open.AccessId!.Value))).StatusCode);

        // A number whose only access is compromised is an unknown number: no message.
        var alone = NewNumber();
        var only = await SeedAsync(phone: alone.E164);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            await sp.GetRequiredService<AccessProvisioning>().DeactivateAsync(await db.PatientAccesses.SingleAsync(a => a.Id == only.AccessId), TestData.System, DeactivationReasons.Compromised);
            await db.SaveChangesAsync();
        });
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync(Recover, Phone(alone.National))).StatusCode);
        Assert.Empty(await SmsToAsync(alone.E164));
    }

    [Fact]
    public async Task Two_verifications_of_the_same_code_at_once_one_wins()
    {
        var number = NewNumber();
        await SeedAsync(phone: number.E164);
        await _factory.NewClient().PostJsonAsync(Recover, Phone(number.National));
        var code = await CodeSentToAsync(number.E164);
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _factory.NewClient().PostJsonAsync(Verify, PhoneCode(number.E164, code))));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode));
    }

    [Fact]
    public async Task By_email_the_code_goes_by_email_and_the_notice_by_sms()
    {
        var number = NewNumber();
        var email = $"fatou{number.E164[^5..]}@example.sn";
        var p = await SeedAsync(phone: number.E164, email: email);
        var client = _factory.NewClient();
        var asked = await client.PostJsonAsync(Recover, new Dictionary<string, string> { ["email"] = email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        var mail = Assert.Single(await MailsToAsync(email));
        Assert.Empty(await SmsToAsync(number.E164));
        var code = SixDigits().Match(mail).Groups[1].Value;
        var verified = await client.PostJsonAsync(Verify, new Dictionary<string, string> { ["email"] = email, ["code"] = code });
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var token = (await verified.JsonAsync()).GetProperty("recovery_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync(Reset, ResetBody(token, p.AccessId!.Value))).StatusCode);
        var notice = Assert.Single(await SmsToAsync(number.E164));
        Assert.Contains(p.Key[^4..], notice);
        Assert.Contains("renouvel", notice);
    }

    [Fact]
    public async Task Bad_bodies_get_a_french_400_never_a_500()
    {
        var client = _factory.NewClient();
        foreach (var url in new[] { Recover, Verify, Reset })
        {
            foreach (var raw in new[] { "{", "[]", "null", "{\"phone\": 12}", "{\"access_id\": \"x\"}", "{}", "{\"phone\": \"abc\"}", "{\"email\": \"not-an-address\"}" })
            {
                var response = await client.PostAsync(url, new StringContent(raw, System.Text.Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.False(string.IsNullOrEmpty((await response.JsonAsync()).GetProperty("error").GetString()));
            }
        }
        var form = await client.PostAsync(Recover, new FormUrlEncodedContent(new Dictionary<string, string> { ["phone"] = "771234567" }));
        Assert.True((int)form.StatusCode is >= 400 and < 500);
    }

    [Fact]
    public async Task Past_the_hourly_threshold_a_recovery_burst_alert_is_raised()
    {
        var now = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            for (var i = 0; i < 21; i++)
                Cimef.Site.Auditing.Audit.Staff(db, null, "patient", now.AddMinutes(-30), AccessProvisioning.RecoverAction, "PatientAccess", 100_000 + i, "test");
            await db.SaveChangesAsync();
            var raised = await sp.GetRequiredService<AlertRules>().EvaluateAsync(now);
            Assert.Contains(raised, a => a.Kind == AlertKinds.RecoveryBurst);
        });
    }

    [Fact]
    public async Task The_pages_work_without_javascript_in_wolof_and_remember_the_key()
    {
        var number = NewNumber();
        var p = await SeedAsync("Awa Diop", phone: number.E164);
        var client = _factory.NewClient();
        var login = await (await client.GetAsync("/patient?lang=wo")).TextAsync();
        Assert.Contains("href=\"/patient/recover\"", login);
        Assert.Contains("Sa caabi walla sa baatu jàll réer na?", login);

        var form = await (await client.GetAsync("/patient/recover")).TextAsync();
        Assert.Contains("inputmode=\"tel\"", form);
        var asked = await client.PostFormAsync("/patient/recover", new() { ["Phone"] = number.National });
        Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);
        Assert.Equal("/patient/recover/code", asked.Headers.Location!.OriginalString);
        var codePage = await (await client.GetAsync("/patient/recover/code")).TextAsync();
        Assert.Contains("inputmode=\"numeric\"", codePage);
        Assert.Contains("autocomplete=\"one-time-code\"", codePage);
        Assert.Contains("Su nimero bii bindoo ci CIMEF", codePage);
        var code = await CodeSentToAsync(number.E164);

        var wrong = await client.PostFormAsync("/patient/recover/code", new() { ["Code"] = Other(code) });
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Kood bi baaxul", await wrong.TextAsync());
        var right = await client.PostFormAsync("/patient/recover/code", new() { ["Code"] = code });
        Assert.Equal("/patient/recover/choose", right.Headers.Location!.OriginalString);
        var choose = await (await client.GetAsync("/patient/recover/choose")).TextAsync();
        Assert.Contains($"A. D. — …{p.Key[^4..]}", choose);

        var done = await client.PostFormAsync("/patient/recover/choose", new() { ["AccessId"] = p.AccessId!.Value.ToString() });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var html = await done.TextAsync();
        var password = Regex.Match(html, "id=\"renewed-password\" class=\"secret\">([a-z0-9]{8})<").Groups[1].Value;
        Assert.Equal(8, password.Length);
        Assert.Contains(CredentialGenerator.FormatKey(p.Key), html);
        Assert.Contains("Bindal ko léegi", html);

        var token = System.Net.WebUtility.HtmlDecode(Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value);
        var go = await client.PostAsync("/patient/recover/choose?handler=Continue", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Remember"] = "true", ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal("/patient/dashboard", go.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/patient/dashboard")).StatusCode);
        await client.PostFormAsync("/patient/logout", new(), "/patient/dashboard");
        Assert.Contains($"A. D. — …{p.Key[^4..]}", await (await client.GetAsync("/patient")).TextAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _factory.NewClient().LoginJsonAsync(p.Key, p.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.NewClient().LoginJsonAsync(p.Key, password)).StatusCode);
    }

    [Fact]
    public async Task A_step_reached_without_its_cookie_starts_again()
    {
        var client = _factory.NewClient();
        var code = await client.GetAsync("/patient/recover/code");
        Assert.Equal("/patient/recover", code.Headers.Location!.OriginalString);
        var choose = await client.GetAsync("/patient/recover/choose");
        Assert.Equal(HttpStatusCode.OK, choose.StatusCode);
        Assert.Contains("Cette étape a expiré", await choose.TextAsync());
        var invalid = await client.PostFormAsync("/patient/recover", new() { ["Phone"] = "12" });
        Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        Assert.Contains("Numéro invalide", await invalid.TextAsync());
    }
}

/// <summary>The per-address patient limit on recovery requests: one address, and addresses of one IPv6 /64, share it.</summary>
public class RecoveryFloodTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public RecoveryFloodTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "5";
        factory.ConfigureTestServices = TestRemoteIp.AddTo;
    }

    [Fact]
    public async Task A_flood_from_one_address_and_from_one_slash_64_gets_429()
    {
        var one = TestRemoteIp.ClientFrom(_factory, "198.51.100.7");
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
            answers.Add((await one.PostJsonAsync("/api/patients/portal/recover/", new Dictionary<string, string> { ["phone"] = $"77 600 00 0{i}" })).StatusCode);
        Assert.Equal(5, answers.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(2, answers.Count(s => s == HttpStatusCode.TooManyRequests));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            var client = TestRemoteIp.ClientFrom(_factory, $"2001:db8:1:2::{i + 1:x}");
            statuses.Add((await client.PostJsonAsync("/api/patients/portal/recover/verify/",
                new Dictionary<string, string> { ["phone"] = "77 600 00 01", ["code"] = "123456" })).StatusCode);
        }
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.BadRequest));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await TestRemoteIp.ClientFrom(_factory, "198.51.100.7").PostJsonAsync("/api/patients/portal/recover/", new Dictionary<string, string> { ["phone"] = "77 600 00 09" })).StatusCode);
    }
}
