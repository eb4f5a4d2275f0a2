// The AWS docs' REQUEST authorizer (Developer Guide, apigateway-websocket-api-lambda-auth: "Create a Lambda REQUEST
// Authorizer Function"), verbatim logic, used as an
// oracle: node aws_docs_authorizer.js < event.json prints {"allow": response} | {"error": msg} | {"crash": msg}.
var handler = function(event, context, callback) {
  var headers = event.headers;
  var queryStringParameters = event.queryStringParameters;
  var stageVariables = event.stageVariables;
  var requestContext = event.requestContext;
  var tmp = event.methodArn.split(':');
  var apiGatewayArnTmp = tmp[5].split('/');
  var awsAccountId = tmp[4];
  var region = tmp[3];
  var restApiId = apiGatewayArnTmp[0];
  var stage = apiGatewayArnTmp[1];
  var route = apiGatewayArnTmp[2];
  var authResponse = {};
  var condition = {};
  condition.IpAddress = {};
  if (headers.HeaderAuth1 === "headerValue1"
      && queryStringParameters.QueryString1 === "queryValue1"
      && stageVariables.StageVar1 === "stageValue1"
      && requestContext.accountId === "123456789012") {
    callback(null, generateAllow('me', event.methodArn));
  } else {
    callback("Unauthorized");
  }
}
var generatePolicy = function(principalId, effect, resource) {
  var authResponse = {};
  authResponse.principalId = principalId;
  if (effect && resource) {
    var policyDocument = {};
    policyDocument.Version = '2012-10-17';
    policyDocument.Statement = [];
    var statementOne = {};
    statementOne.Action = 'execute-api:Invoke';
    statementOne.Effect = effect;
    statementOne.Resource = resource;
    policyDocument.Statement[0] = statementOne;
    authResponse.policyDocument = policyDocument;
  }
  authResponse.context = { "stringKey": "stringval", "numberKey": 123, "booleanKey": true };
  return authResponse;
}
var generateAllow = function(principalId, resource) { return generatePolicy(principalId, 'Allow', resource); }

var input = require('fs').readFileSync(0, 'utf8');
try {
  handler(JSON.parse(input), {}, function(err, result) {
    console.log(JSON.stringify(err ? {error: err} : {allow: result}));
  });
} catch (e) {
  console.log(JSON.stringify({crash: String(e)}));
}
