using System.Text;
using System.Text.Json;
using System.Web;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Tests.Infrastructure;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Notifications;

public sealed class OrangeFactory : CimefFactory
{
    public FakeProvider Provider { get; } = FakeProvider.Start();

    public OrangeFactory()
    {
        Settings["Sms:Provider"] = "Orange";
        Settings["Sms:TimeoutSeconds"] = "1";
        Settings["Sms:Orange:BaseUrl"] = Provider.Address;
        Settings["Sms:Orange:ClientId"] = "client-id";
        Settings["Sms:Orange:ClientSecret"] = "client-secret";
        Settings["Sms:Orange:SenderAddress"] = "tel:+221770000000";
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

public class OrangeSmsTests(OrangeFactory factory) : IClassFixture<OrangeFactory>
{
    private const string SendTarget = "/smsmessaging/v1/outbound/tel%3A%2B221770000000/requests";

    private void Answer(int sendStatus, string sendJson = "{}") => factory.Provider.Respond = r =>
        r.RawTarget == "/oauth/v3/token" ? (200, """{"token_type":"Bearer","access_token":"tok-123","expires_in":3600}""") : (sendStatus, sendJson);

    private async Task<(TestPatient TestPatient, OutboxMessage Sms)> SendOneAsync()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: null, phone: "+221771234567");
        await factory.ProcessOutboxAsync();
        return (s, Assert.Single(await factory.OutboxOfAsync(s.PatientId)));
    }

    [Fact]
    public async Task Orange_gets_a_client_credentials_token_then_the_outbound_request()
    {
        Answer(201);
        var (s, sms) = await SendOneAsync();

        Assert.Equal(OutboxStatus.Sent, sms.Status);
        var token = Assert.Single(factory.Provider.Requests, r => r.RawTarget == "/oauth/v3/token");
        Assert.Equal("POST", token.Method);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client-id:client-secret")), token.Authorization);
        Assert.Equal("grant_type=client_credentials", token.Body);
        var send = factory.Provider.Requests.Last(r => r.RawTarget == SendTarget);
        Assert.Equal("Bearer tok-123", send.Authorization);
        var request = JsonDocument.Parse(send.Body).RootElement.GetProperty("outboundSMSMessageRequest");
        Assert.Equal("tel:+221771234567", request.GetProperty("address").GetString());
        Assert.Equal("tel:+221770000000", request.GetProperty("senderAddress").GetString());
        var text = request.GetProperty("outboundSMSTextMessage").GetProperty("message").GetString()!;
        var (key, password) = (s.Key, s.Password);
        Assert.True(text.Length <= 160 && SmsText.IsGsm7(text), text);
        Assert.Contains(Grouped(key), text);
        Assert.DoesNotContain(password, text);
    }

    [Fact]
    public async Task A_5xx_answer_schedules_a_retry_with_the_reason()
    {
        Answer(503, """{"requestError":{"serviceException":{"text":"Service indisponible"}}}""");
        var (_, sms) = await SendOneAsync();
        Assert.Equal(OutboxStatus.Pending, sms.Status);
        Assert.Equal(1, sms.Attempts);
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime.AddMinutes(1), sms.NextAttemptAt);
        Assert.Contains("HTTP 503", sms.LastError);
    }

    [Fact]
    public async Task A_4xx_answer_fails_the_message_with_the_providers_reason()
    {
        Answer(400, """{"requestError":{"serviceException":{"messageId":"SVC0004","text":"Invalid address"}}}""");
        var (_, sms) = await SendOneAsync();
        Assert.Equal(OutboxStatus.Failed, sms.Status);
        Assert.Equal("Orange : HTTP 400 — Invalid address", sms.LastError);
    }

    [Fact]
    public async Task A_provider_that_never_answers_times_out_and_is_retried()
    {
        Answer(201);
        factory.Provider.Hang = r => r.RawTarget == SendTarget;
        try
        {
            var (_, sms) = await SendOneAsync();
            Assert.Equal(OutboxStatus.Pending, sms.Status);
            Assert.Contains("délai dépassé", sms.LastError);
        }
        finally
        {
            factory.Provider.Hang = _ => false;
        }
    }
}

public sealed class TwilioFactory : CimefFactory
{
    public FakeProvider Provider { get; } = FakeProvider.Start();

    public TwilioFactory()
    {
        Settings["Sms:Provider"] = "Twilio";
        Settings["Sms:IncludePassword"] = "true";
        Settings["Sms:Twilio:BaseUrl"] = Provider.Address;
        Settings["Sms:Twilio:AccountSid"] = "AC123";
        Settings["Sms:Twilio:AuthToken"] = "auth-token";
        Settings["Sms:Twilio:From"] = "+15005550006";
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

public class TwilioSmsTests(TwilioFactory factory) : IClassFixture<TwilioFactory>
{
    private const string Target = "/2010-04-01/Accounts/AC123/Messages.json";

    [Fact]
    public async Task Twilio_gets_a_form_encoded_message_with_basic_auth()
    {
        factory.Provider.Respond = _ => (201, """{"sid":"SM1","status":"queued"}""");
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: null, phone: "+221778889999");
        await factory.ProcessOutboxAsync();

        Assert.Equal(OutboxStatus.Sent, Assert.Single(await factory.OutboxOfAsync(s.PatientId)).Status);
        var seen = factory.Provider.Requests.Last(r => r.RawTarget == Target);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("AC123:auth-token")), seen.Authorization);
        Assert.StartsWith("application/x-www-form-urlencoded", seen.ContentType);
        var form = HttpUtility.ParseQueryString(seen.Body);
        Assert.Equal("+221778889999", form["To"]);
        Assert.Equal("+15005550006", form["From"]);
        var (key, password) = (s.Key, s.Password);
        var body = form["Body"]!;
        Assert.True(body.Length <= 160 && SmsText.IsGsm7(body), body);
        Assert.Contains(Grouped(key), body);
        Assert.Contains(password, body); // Sms:IncludePassword is true here
    }

    [Fact]
    public async Task A_provider_down_for_a_day_gets_seven_attempts_spread_over_24_hours_then_fails()
    {
        factory.Provider.Respond = _ => (500, """{"code":20500,"message":"Internal Server Error"}""");
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: null, phone: "+221776667777");
        var start = factory.Time.GetUtcNow();
        await factory.ProcessOutboxAsync();
        foreach (var delay in Cimef.Site.Notifications.OutboxProcessor.Backoff)
        {
            var pending = Assert.Single(await factory.OutboxOfAsync(s.PatientId));
            Assert.Equal(OutboxStatus.Pending, pending.Status);
            factory.Time.Advance(delay);
            await factory.ProcessOutboxAsync();
        }
        var failed = Assert.Single(await factory.OutboxOfAsync(s.PatientId));
        Assert.Equal(OutboxStatus.Failed, failed.Status);
        Assert.Equal(7, failed.Attempts);
        Assert.Equal("Twilio : HTTP 500 — Internal Server Error", failed.LastError);
        var span = factory.Time.GetUtcNow() - start;
        Assert.InRange(span, TimeSpan.FromHours(20), TimeSpan.FromHours(24));
    }

    [Fact]
    public async Task A_4xx_from_twilio_fails_at_once_with_its_message_and_no_credentials()
    {
        factory.Provider.Respond = _ => (400, """{"code":21211,"message":"The 'To' number is not a valid phone number."}""");
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: null, phone: "+221770001111");
        await factory.ProcessOutboxAsync();
        var sms = Assert.Single(await factory.OutboxOfAsync(s.PatientId));
        Assert.Equal(OutboxStatus.Failed, sms.Status);
        Assert.Equal(1, sms.Attempts);
        Assert.Equal("Twilio : HTTP 400 — The 'To' number is not a valid phone number.", sms.LastError);
    }
}
